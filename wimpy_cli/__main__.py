from wimpy_cli.main import main

main()
