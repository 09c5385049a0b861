; matmul_relu: Mambalaya accelerator stream, format 1.1 (docs/isa.md)
; 4 tensors, 1 groups, 5 descriptors, 7 micro-ops, 38 instructions
.version 1.1
.module "matmul_relu" "examples/matmul_relu.ein"
.target "mambalaya-levels" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.level "DRAM" bytes=0 read_gbps=2039 write_gbps=1024 overhead=0
.level "GLB" bytes=16777216 read_gbps=7168 write_gbps=3584 overhead=100
.level "PE" bytes=524288 read_gbps=57344 write_gbps=28672 overhead=4
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 1280
.tensor A input [16,32] @0
.tensor B weight [32,16] @512
.tensor R output [16,16] @1024
.tensor C temp [16,16] @none
.group 0 "C,R"
.desc 0 dma dims=2 tensor=A s0=[32,1]
.desc 1 dma dims=2 tensor=B s0=[16,1]
.desc 2 vexpr dims=3 streams=3 flags=overwrite uops=0+4 s0=[16,1,0] s1=[32,0,1] s2=[0,1,16]
.desc 3 vexpr dims=2 streams=2 flags=none uops=4+3 s0=[16,1] s1=[16,1]
.desc 4 dma dims=2 tensor=R s0=[16,1]
.uop 0 ld s1 mask=0x05 cost=read
.uop 1 ld s2 mask=0x06 cost=read
.uop 2 bin mul #0 #1 mask=0x07 cost=none
.uop 3 acc add #2 mask=0x07 cost=mac
.uop 4 ld s1 mask=0x03 cost=read
.uop 5 un relu #0 mask=0x03 cost=relu
.uop 6 st #1 mask=0x03 cost=none
.code
	group 0, 1280	; C,R
	mode 1d
	li r1, 1
	li r3, 1
	li r8, 16
	li r9, 32
	li r10, 0
	li r11, 0
	li r12, 0
	load d0, r8, r10	; A
	li r1, 0
	li r8, 32
	li r9, 16
	li r10, 512
	li r11, 0
	li r12, 0
	load d1, r8, r10	; B
	li r3, 0
	li r8, 16
	li r9, 16
	li r10, 32
	li r11, 1024
	li r12, 0
	li r13, 512
	vexpr d2, r8, r11
	li r8, 16
	li r9, 16
	li r10, 0
	li r11, 1024
	vexpr d3, r8, r10
	li r8, 16
	li r9, 16
	li r10, 0
	li r11, 0
	li r12, 0
	store d4, r8, r10	; R
	sync
	halt
