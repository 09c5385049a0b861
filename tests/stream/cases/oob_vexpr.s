; A kernel whose output runs past the group's allocation: a fault naming the instruction.
.version 1.0
.module "case" "hand-written"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 64
.tensor X temp [4,8] @0
.group 0 "g"
.desc 0 vexpr dims=1 streams=2 flags=none uops=0+2 s0=[1] s1=[1]
.uop 0 ld s1 mask=0x01 cost=read
.uop 1 st #0 mask=0x01 cost=none
.code
	group 0, 64
	mode 1d
	li r0, 128
	li r1, 0
	li r2, 0
	vexpr d0, r0, r1
	sync
	halt
