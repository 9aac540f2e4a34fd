"""Where the warehouse lives: its location, paths and connection (publishing is `serving/`)."""
