; attention: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 9 tensors, 1 groups, 12 descriptors, 21 micro-ops, 76 instructions
.version 1.0
.module "attention" "examples/attention.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 768
.tensor Q input [16,8] @0
.tensor K input [8,32] @128
.tensor V input [8,32] @384
.tensor AV output [16,8] @640
.tensor QK temp [16,32] @none
.tensor GM temp [16] @none
.tensor SN temp [16,32] @none
.tensor SD temp [16] @none
.tensor A temp [16,32] @none
.group 0 "QK,GM,SN,SD,A,AV"
.desc 0 dma dims=2 tensor=Q s0=[8,1]
.desc 1 dma dims=2 tensor=K s0=[32,1]
.desc 2 vexpr dims=3 streams=3 flags=overwrite uops=0+4 s0=[32,1,0] s1=[8,0,1] s2=[0,1,32]
.desc 3 fill dims=1 unit=1d value=-inf s0=[1]
.desc 4 vexpr dims=2 streams=2 flags=none uops=4+2 s0=[1,0] s1=[32,1]
.desc 5 vexpr dims=2 streams=3 flags=none uops=6+5 s0=[32,1] s1=[32,1] s2=[1,0]
.desc 6 fill dims=1 unit=1d value=0 s0=[1]
.desc 7 vexpr dims=2 streams=2 flags=none uops=11+2 s0=[1,0] s1=[32,1]
.desc 8 vexpr dims=2 streams=3 flags=none uops=13+4 s0=[32,1] s1=[32,1] s2=[1,0]
.desc 9 dma dims=2 tensor=V s0=[32,1]
.desc 10 vexpr dims=3 streams=3 flags=overwrite uops=17+4 s0=[8,1,0] s1=[32,0,1] s2=[0,32,1]
.desc 11 dma dims=2 tensor=AV s0=[8,1]
.uop 0 ld s1 mask=0x05 cost=read
.uop 1 ld s2 mask=0x06 cost=read
.uop 2 bin mul #0 #1 mask=0x07 cost=none
.uop 3 acc add #2 mask=0x07 cost=mac
.uop 4 ld s1 mask=0x03 cost=read
.uop 5 acc max #0 mask=0x03 cost=max
.uop 6 ld s1 mask=0x03 cost=read
.uop 7 ld s2 mask=0x01 cost=read
.uop 8 bin sub #0 #1 mask=0x03 cost=sub
.uop 9 un exp #2 mask=0x03 cost=exp
.uop 10 st #3 mask=0x03 cost=none
.uop 11 ld s1 mask=0x03 cost=read
.uop 12 acc add #0 mask=0x03 cost=add
.uop 13 ld s1 mask=0x03 cost=read
.uop 14 ld s2 mask=0x01 cost=read
.uop 15 bin div #0 #1 mask=0x03 cost=div
.uop 16 st #2 mask=0x03 cost=none
.uop 17 ld s1 mask=0x05 cost=read
.uop 18 ld s2 mask=0x06 cost=read
.uop 19 bin mul #0 #1 mask=0x07 cost=none
.uop 20 acc add #2 mask=0x07 cost=mac
.code
	group 0, 1408	; QK,GM,SN,SD,A,AV
	li r2, 1
	li r8, 1
	li r1, 1
	li r10, 16
	li r11, 8
	li r12, 0
	li r13, 0
	li r14, 0
	load d0, r10, r12	; Q
	li r1, 0
	li r10, 8
	li r11, 32
	li r12, 128
	li r13, 0
	li r14, 0
	load d1, r10, r12	; K
	li r2, 0
	mode 1d
	li r10, 16
	li r11, 32
	li r12, 8
	li r13, 384
	li r14, 0
	li r15, 128
	vexpr d2, r10, r13
	li r10, 16
	li r11, 0
	fill d3, r10, r11
	li r10, 16
	li r11, 32
	li r12, 0
	li r13, 384
	vexpr d4, r10, r12
	li r10, 16
	li r11, 32
	li r12, 896
	li r13, 384
	li r14, 0
	vexpr d5, r10, r12
	li r10, 16
	li r11, 0
	fill d6, r10, r11
	li r10, 16
	li r11, 32
	li r12, 0
	li r13, 896
	vexpr d7, r10, r12
	li r10, 16
	li r11, 32
	li r12, 32
	li r13, 896
	li r14, 0
	vexpr d8, r10, r12
	li r10, 8
	li r11, 32
	li r12, 544
	li r13, 0
	li r14, 0
	load d9, r10, r12	; V
	li r8, 0
	li r10, 16
	li r11, 8
	li r12, 32
	li r13, 800
	li r14, 32
	li r15, 544
	vexpr d10, r10, r13
	li r10, 16
	li r11, 8
	li r12, 800
	li r13, 0
	li r14, 0
	store d11, r10, r12	; AV
	sync
	halt
