"""The local web app (``lifecircle serve``): the planner's path — data, check, settings, run,
results — as pages over the same pipeline, messages, validation and outputs as the command line.

Starlette (routing, requests, responses) with server-rendered Jinja2 templates that escape every
value, served by uvicorn on the loopback address only; imported only by ``lifecircle serve``.
"""
