from devctl.cli import main

main()
