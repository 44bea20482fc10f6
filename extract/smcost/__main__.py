from smcost.cli import main

raise SystemExit(main())
