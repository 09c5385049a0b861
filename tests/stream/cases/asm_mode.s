; mode takes 1d or 2d.
.version 1.0
.module "case" "hand-written"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 64
.tensor X temp [4,8] @0
.group 0 "g"
.code
	group 0, 64
	mode 3d
	sync
	halt
