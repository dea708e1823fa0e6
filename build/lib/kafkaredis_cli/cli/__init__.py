"""The command line: parsing and printing only; the work happens behind the mediator."""
