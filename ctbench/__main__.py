from ctbench.cli import main

main()
