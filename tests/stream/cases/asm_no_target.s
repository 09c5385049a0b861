; No .target directive.
.version 1.0
.module "case" "hand-written"
.dram 0
.code
	halt
