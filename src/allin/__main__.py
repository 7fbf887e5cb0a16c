from allin.cli import main

main()
