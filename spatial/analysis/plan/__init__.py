"""The renovation programme by year (年度计划): :class:`~spatial.analysis.plan.planner.Planner`."""
