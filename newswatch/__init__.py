"""newswatch: the application shell — command line, configuration, wiring."""
