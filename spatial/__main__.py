from spatial.cli.main import console

console()
