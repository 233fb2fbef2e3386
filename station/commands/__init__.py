"""One module per ``specmon`` subcommand; the list is :data:`station.cli.COMMANDS`."""
