; attention_1pass: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 8 tensors, 1 groups, 12 descriptors, 43 micro-ops, 81 instructions
.version 1.0
.module "attention_1pass" "examples/attention_1pass.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 768
.tensor Q input [16,8] @0
.tensor K input [8,32] @128
.tensor V input [8,32] @384
.tensor AV output [16,8] @640
.tensor QK temp [16,32] @none
.tensor RM temp [16,33] @none
.tensor RD temp [16,33] @none
.tensor RNV temp [16,8,33] @none
.group 0 "QK,RM.1,RM.2,RD.1,RD.2,RNV.1,RNV.2,AV"
.desc 0 dma dims=2 tensor=Q s0=[8,1]
.desc 1 dma dims=2 tensor=K s0=[32,1]
.desc 2 vexpr dims=3 streams=3 flags=overwrite uops=0+4 s0=[32,1,0] s1=[8,0,1] s2=[0,1,32]
.desc 3 vexpr dims=1 streams=1 flags=none uops=4+3 s0=[33]
.desc 4 vexpr dims=2 streams=3 flags=seq uops=7+4 s0=[1,33] s1=[1,33] s2=[1,32]
.desc 5 vexpr dims=1 streams=1 flags=none uops=11+2 s0=[33]
.desc 6 vexpr dims=2 streams=5 flags=seq uops=13+11 s0=[1,33] s1=[1,33] s2=[1,33] s3=[1,33] s4=[1,32]
.desc 7 vexpr dims=2 streams=1 flags=none uops=24+2 s0=[264,33]
.desc 8 dma dims=2 tensor=V s0=[32,1]
.desc 9 vexpr dims=3 streams=6 flags=seq uops=26+13 s0=[1,264,33] s1=[1,264,33] s2=[1,33,0] s3=[1,33,0] s4=[1,32,0] s5=[1,0,32]
.desc 10 vexpr dims=2 streams=3 flags=none uops=39+4 s0=[8,1] s1=[264,33] s2=[33,0]
.desc 11 dma dims=2 tensor=AV s0=[8,1]
.uop 0 ld s1 mask=0x05 cost=read
.uop 1 ld s2 mask=0x06 cost=read
.uop 2 bin mul #0 #1 mask=0x07 cost=none
.uop 3 acc add #2 mask=0x07 cost=mac
.uop 4 cst 1.00000002e+30 mask=0x00 cost=none
.uop 5 un neg #0 mask=0x00 cost=neg
.uop 6 st #1 mask=0x01 cost=none
.uop 7 ld s1 mask=0x03 cost=none
.uop 8 ld s2 mask=0x03 cost=read
.uop 9 bin max #0 #1 mask=0x03 cost=max
.uop 10 st #2 mask=0x03 cost=none
.uop 11 cst 0 mask=0x00 cost=none
.uop 12 st #0 mask=0x01 cost=copy
.uop 13 ld s1 mask=0x03 cost=none
.uop 14 ld s2 mask=0x03 cost=read
.uop 15 ld s3 mask=0x03 cost=read
.uop 16 bin sub #1 #2 mask=0x03 cost=sub
.uop 17 un exp #3 mask=0x03 cost=exp
.uop 18 bin mul #0 #4 mask=0x03 cost=none
.uop 19 ld s4 mask=0x03 cost=read
.uop 20 bin sub #6 #2 mask=0x03 cost=sub
.uop 21 un exp #7 mask=0x03 cost=exp
.uop 22 bin add #5 #8 mask=0x03 cost=mac
.uop 23 st #9 mask=0x03 cost=none
.uop 24 cst 0 mask=0x00 cost=none
.uop 25 st #0 mask=0x03 cost=copy
.uop 26 ld s1 mask=0x07 cost=none
.uop 27 ld s2 mask=0x03 cost=read
.uop 28 ld s3 mask=0x03 cost=read
.uop 29 bin sub #1 #2 mask=0x03 cost=sub
.uop 30 un exp #3 mask=0x03 cost=exp
.uop 31 bin mul #0 #4 mask=0x07 cost=none
.uop 32 ld s4 mask=0x03 cost=read
.uop 33 bin sub #6 #2 mask=0x03 cost=sub
.uop 34 un exp #7 mask=0x03 cost=exp
.uop 35 ld s5 mask=0x05 cost=read
.uop 36 bin mul #8 #9 mask=0x07 cost=mul
.uop 37 bin add #5 #10 mask=0x07 cost=mac
.uop 38 st #11 mask=0x07 cost=none
.uop 39 ld s1 mask=0x03 cost=read
.uop 40 ld s2 mask=0x01 cost=read
.uop 41 bin div #0 #1 mask=0x03 cost=div
.uop 42 st #2 mask=0x03 cost=none
.code
	group 0, 6208	; QK,RM.1,RM.2,RD.1,RD.2,RNV.1,RNV.2,AV
	li r2, 1
	li r7, 1
	li r1, 1
	li r9, 16
	li r10, 8
	li r11, 0
	li r12, 0
	li r13, 0
	load d0, r9, r11	; Q
	li r1, 0
	li r9, 8
	li r10, 32
	li r11, 128
	li r12, 0
	li r13, 0
	load d1, r9, r11	; K
	li r2, 0
	mode 1d
	li r9, 16
	li r10, 32
	li r11, 8
	li r12, 384
	li r13, 0
	li r14, 128
	vexpr d2, r9, r12
	li r9, 16
	li r10, 896
	vexpr d3, r9, r10
	li r9, 32
	li r10, 16
	li r11, 897
	li r12, 896
	li r13, 384
	vexpr d4, r9, r11
	li r9, 16
	li r10, 1440
	vexpr d5, r9, r10
	li r9, 32
	li r10, 16
	li r11, 1441
	li r12, 1440
	li r13, 896
	li r14, 897
	li r15, 384
	vexpr d6, r9, r11
	li r9, 16
	li r10, 8
	li r11, 1984
	vexpr d7, r9, r11
	li r9, 8
	li r10, 32
	li r11, 0
	li r12, 0
	li r13, 0
	load d8, r9, r11	; V
	li r7, 0
	li r9, 32
	li r10, 16
	li r11, 8
	li r12, 1985
	li r13, 1984
	li r14, 896
	li r15, 897
	li r16, 384
	li r17, 0
	vexpr d9, r9, r12
	li r9, 16
	li r10, 8
	li r11, 0
	li r12, 2016
	li r13, 1472
	vexpr d10, r9, r11
	li r9, 16
	li r10, 8
	li r11, 0
	li r12, 0
	li r13, 0
	store d11, r9, r11	; AV
	sync
	halt
