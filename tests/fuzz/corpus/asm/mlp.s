; mlp: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 10 tensors, 1 groups, 11 descriptors, 31 micro-ops, 77 instructions
.version 1.0
.module "mlp" "examples/mlp.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 9376
.tensor X input [16,32] @0
.tensor W1 weight [32,128] @512
.tensor B1 weight [128] @4608
.tensor W2 weight [128,32] @4736
.tensor B2 weight [32] @8832
.tensor Y output [16,32] @8864
.tensor P1 temp [16,128] @none
.tensor Z temp [16,128] @none
.tensor G temp [16,128] @none
.tensor P2 temp [16,32] @none
.group 0 "P1,Z,G,P2,Y"
.desc 0 dma dims=2 tensor=X s0=[32,1]
.desc 1 dma dims=2 tensor=W1 s0=[128,1]
.desc 2 vexpr dims=3 streams=3 flags=overwrite uops=0+4 s0=[128,1,0] s1=[32,0,1] s2=[0,1,128]
.desc 3 dma dims=1 tensor=B1 s0=[1]
.desc 4 vexpr dims=2 streams=3 flags=none uops=4+4 s0=[128,1] s1=[128,1] s2=[0,1]
.desc 5 vexpr dims=2 streams=2 flags=none uops=8+15 s0=[128,1] s1=[128,1]
.desc 6 dma dims=2 tensor=W2 s0=[32,1]
.desc 7 vexpr dims=3 streams=3 flags=overwrite uops=23+4 s0=[32,1,0] s1=[128,0,1] s2=[0,1,32]
.desc 8 dma dims=1 tensor=B2 s0=[1]
.desc 9 vexpr dims=2 streams=3 flags=none uops=27+4 s0=[32,1] s1=[32,1] s2=[0,1]
.desc 10 dma dims=2 tensor=Y s0=[32,1]
.uop 0 ld s1 mask=0x05 cost=read
.uop 1 ld s2 mask=0x06 cost=read
.uop 2 bin mul #0 #1 mask=0x07 cost=none
.uop 3 acc add #2 mask=0x07 cost=mac
.uop 4 ld s1 mask=0x03 cost=read
.uop 5 ld s2 mask=0x02 cost=read
.uop 6 bin add #0 #1 mask=0x03 cost=add
.uop 7 st #2 mask=0x03 cost=none
.uop 8 cst 0.5 mask=0x00 cost=none
.uop 9 ld s1 mask=0x03 cost=read
.uop 10 bin mul #0 #1 mask=0x03 cost=mul
.uop 11 cst 1 mask=0x00 cost=none
.uop 12 cst 0.797884583 mask=0x00 cost=none
.uop 13 cst 0.0447149985 mask=0x00 cost=none
.uop 14 bin mul #5 #1 mask=0x03 cost=mul
.uop 15 bin mul #6 #1 mask=0x03 cost=mul
.uop 16 bin mul #7 #1 mask=0x03 cost=none
.uop 17 bin add #1 #8 mask=0x03 cost=mac
.uop 18 bin mul #4 #9 mask=0x03 cost=mul
.uop 19 un tanh #10 mask=0x03 cost=tanh
.uop 20 bin add #3 #11 mask=0x03 cost=add
.uop 21 bin mul #2 #12 mask=0x03 cost=mul
.uop 22 st #13 mask=0x03 cost=none
.uop 23 ld s1 mask=0x05 cost=read
.uop 24 ld s2 mask=0x06 cost=read
.uop 25 bin mul #0 #1 mask=0x07 cost=none
.uop 26 acc add #2 mask=0x07 cost=mac
.uop 27 ld s1 mask=0x03 cost=read
.uop 28 ld s2 mask=0x02 cost=read
.uop 29 bin add #0 #1 mask=0x03 cost=add
.uop 30 st #2 mask=0x03 cost=none
.code
	group 0, 8320	; P1,Z,G,P2,Y
	li r2, 1
	li r4, 1
	li r7, 1
	li r9, 1
	li r1, 1
	li r11, 16
	li r12, 32
	li r13, 0
	li r14, 0
	li r15, 0
	load d0, r11, r13	; X
	li r1, 0
	li r11, 32
	li r12, 128
	li r13, 512
	li r14, 0
	li r15, 0
	load d1, r11, r13	; W1
	li r2, 0
	mode 1d
	li r11, 16
	li r12, 128
	li r13, 32
	li r14, 4608
	li r15, 0
	li r16, 512
	vexpr d2, r11, r14
	li r11, 128
	li r12, 0
	li r13, 0
	load d3, r11, r12	; B1
	li r4, 0
	li r11, 16
	li r12, 128
	li r13, 128
	li r14, 4608
	li r15, 0
	vexpr d4, r11, r13
	li r11, 16
	li r12, 128
	li r13, 2176
	li r14, 128
	vexpr d5, r11, r13
	li r11, 128
	li r12, 32
	li r13, 4224
	li r14, 0
	li r15, 0
	load d6, r11, r13	; W2
	li r7, 0
	li r11, 16
	li r12, 32
	li r13, 128
	li r14, 0
	li r15, 2176
	li r16, 4224
	vexpr d7, r11, r14
	li r11, 32
	li r12, 512
	li r13, 0
	load d8, r11, r12	; B2
	li r9, 0
	li r11, 16
	li r12, 32
	li r13, 544
	li r14, 0
	li r15, 512
	vexpr d9, r11, r13
	li r11, 16
	li r12, 32
	li r13, 544
	li r14, 0
	li r15, 0
	store d10, r11, r13	; Y
	sync
	halt
