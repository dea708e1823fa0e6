from kafkaredis_cli.cli.app import main

main()
