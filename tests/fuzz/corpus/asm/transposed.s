; transposed: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 4 tensors, 1 groups, 5 descriptors, 7 micro-ops, 38 instructions
.version 1.0
.module "transposed" "examples/transposed.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 1536
.tensor A input [16,32] @0
.tensor B weight [32,16] @512
.tensor T output [16,16] @1024
.tensor C temp [16,16] @1280
.group 0 "C,T"
.desc 0 dma dims=2 tensor=A s0=[32,1]
.desc 1 dma dims=2 tensor=B s0=[16,1]
.desc 2 vexpr dims=3 streams=3 flags=overwrite uops=0+4 s0=[16,1,0] s1=[32,0,1] s2=[0,1,16]
.desc 3 vexpr dims=2 streams=2 flags=none uops=4+3 s0=[16,1] s1=[1,16]
.desc 4 dma dims=2 tensor=T s0=[16,1]
.uop 0 ld s1 mask=0x05 cost=read
.uop 1 ld s2 mask=0x06 cost=read
.uop 2 bin mul #0 #1 mask=0x07 cost=none
.uop 3 acc add #2 mask=0x07 cost=mac
.uop 4 ld s1 mask=0x03 cost=read
.uop 5 un relu #0 mask=0x03 cost=relu
.uop 6 st #1 mask=0x03 cost=none
.code
	group 0, 1280	; C,T
	li r0, 1
	li r1, 1
	li r2, 16
	li r3, 32
	li r4, 0
	li r5, 0
	li r6, 0
	load d0, r2, r4	; A
	li r0, 0
	li r2, 32
	li r3, 16
	li r4, 512
	li r5, 0
	li r6, 0
	load d1, r2, r4	; B
	li r1, 0
	mode 1d
	li r2, 16
	li r3, 16
	li r4, 32
	li r5, 1024
	li r6, 0
	li r7, 512
	vexpr d2, r2, r5
	li r2, 16
	li r3, 16
	li r4, 0
	li r5, 1024
	vexpr d3, r2, r4
	li r2, 16
	li r3, 16
	li r4, 0
	li r5, 0
	li r6, 0
	store d4, r2, r4	; T
	sync
	halt
