"""One module per subcommand; each is a thin click layer over plain functions."""
