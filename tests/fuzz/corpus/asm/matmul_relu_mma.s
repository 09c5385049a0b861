; matmul_relu: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 4 tensors, 2 groups, 8 descriptors, 3 micro-ops, 282 instructions
.version 1.0
.module "matmul_relu" "examples/matmul_relu.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 1048576
.tensor A input [512,512] @0
.tensor B weight [512,512] @262144
.tensor R output [512,512] @524288
.tensor C temp [512,512] @786432
.group 0 "C"
.group 1 "R"
.desc 0 dma dims=2 tensor=A s0=[512,1]
.desc 1 dma dims=2 tensor=B s0=[512,1]
.desc 2 fill dims=2 unit=2d value=0 s0=[256,1]
.desc 3 mma dims=3 classes=[m,n,k] flags=none alpha=1 s0=[256,1,0] s1=[512,0,1] s2=[0,1,512]
.desc 4 dma dims=2 tensor=C s0=[256,1]
.desc 5 dma dims=2 tensor=C s0=[128,1]
.desc 6 vexpr dims=2 streams=2 flags=none uops=0+3 s0=[128,1] s1=[128,1]
.desc 7 dma dims=2 tensor=R s0=[128,1]
.uop 0 ld s1 mask=0x03 cost=read
.uop 1 un relu #0 mask=0x03 cost=relu
.uop 2 st #1 mask=0x03 cost=none
.code
	group 0, 655360	; C
	li r1, 1
	li r7, 1
	li r4, 1
	li r9, 0
	li r10, 1
	loop r9, r10, 1
		tile
		muli r11, r9, 256
		addi r13, r11, 255
		li r14, 511
		min r15, r13, r14
		addi r12, r15, 0
		li r13, 0
		max r14, r11, r13
		li r15, 511
		min r16, r12, r15
		addi r0, r14, 0
		li r17, 1
		sub r1, r17, r1
		muli r2, r1, 131072
		li r3, 1
		li r13, 0
		li r14, 1
		loop r13, r14, 1
			tile
			muli r15, r13, 256
			addi r17, r15, 255
			li r18, 511
			min r19, r17, r18
			addi r16, r19, 0
			li r17, 0
			max r18, r11, r17
			li r19, 511
			min r20, r12, r19
			addi r5, r18, 0
			li r21, 0
			max r22, r15, r21
			li r23, 511
			min r24, r16, r23
			addi r6, r22, 0
			li r25, 1
			sub r7, r25, r7
			muli r8, r7, 65536
			addi r8, r8, 524288
			li r17, 0
			li r18, 1
			loop r17, r18, 1
				tile
				muli r19, r17, 256
				addi r21, r19, 255
				li r22, 511
				min r23, r21, r22
				addi r20, r23, 0
				li r21, 0
				seq r22, r21, r17
				bz r22, L96
				bz r3, L75
				li r23, 0
				max r24, r11, r23
				li r25, 511
				min r26, r12, r25
				muli r27, r24, -1
				add r28, r26, r27
				muli r29, r0, -1
				add r30, r24, r29
				muli r31, r30, 512
				add r32, r2, r31
				addi r33, r28, 1
				li r34, 512
				addi r35, r32, 0
				addi r36, r24, 0
				li r37, 0
				load d0, r33, r35	; A
				li r3, 0
L75:
				bz r4, L83
				li r23, 512
				li r24, 512
				li r25, 262144
				li r26, 0
				li r27, 0
				load d1, r23, r25	; B
				li r4, 0
L83:
				muli r23, r9, 256
				muli r24, r5, -1
				add r25, r23, r24
				muli r26, r25, 256
				add r27, r8, r26
				muli r28, r13, 256
				muli r29, r6, -1
				add r30, r28, r29
				add r31, r27, r30
				li r32, 256
				li r33, 256
				addi r34, r31, 0
				fill d2, r32, r34
L96:
				bz r3, L114
				li r21, 0
				max r22, r11, r21
				li r23, 511
				min r24, r12, r23
				muli r25, r22, -1
				add r26, r24, r25
				muli r27, r0, -1
				add r28, r22, r27
				muli r29, r28, 512
				add r30, r2, r29
				addi r31, r26, 1
				li r32, 512
				addi r33, r30, 0
				addi r34, r22, 0
				li r35, 0
				load d0, r31, r33	; A
				li r3, 0
L114:
				bz r4, L122
				li r21, 512
				li r22, 512
				li r23, 262144
				li r24, 0
				li r25, 0
				load d1, r21, r23	; B
				li r4, 0
L122:
				muli r21, r9, 256
				addi r21, r21, 255
				li r22, 511
				min r23, r21, r22
				muli r24, r9, -256
				add r25, r23, r24
				muli r26, r13, 256
				addi r26, r26, 255
				li r27, 511
				min r28, r26, r27
				muli r29, r13, -256
				add r30, r28, r29
				muli r31, r17, 256
				addi r31, r31, 255
				li r32, 511
				min r33, r31, r32
				muli r34, r17, -256
				add r35, r33, r34
				muli r36, r9, 256
				muli r37, r5, -1
				add r38, r36, r37
				muli r39, r38, 256
				add r40, r8, r39
				muli r41, r13, 256
				muli r42, r6, -1
				add r43, r41, r42
				add r44, r40, r43
				muli r45, r9, 256
				muli r46, r0, -1
				add r47, r45, r46
				muli r48, r47, 512
				add r49, r2, r48
				muli r50, r17, 256
				add r51, r49, r50
				muli r52, r17, 131072
				muli r53, r13, 256
				add r54, r52, r53
				mode 2d
				addi r55, r25, 1
				addi r56, r30, 1
				addi r57, r35, 1
				addi r58, r44, 0
				addi r59, r51, 0
				addi r60, r54, 262144
				mma d3, r55, r58
			endloop
			li r17, 0
			max r18, r11, r17
			li r19, 511
			min r20, r12, r19
			li r21, 0
			max r22, r15, r21
			li r23, 511
			min r24, r16, r23
			li r25, 0
			max r26, r18, r25
			li r27, 511
			min r28, r20, r27
			li r29, 0
			max r30, r22, r29
			li r31, 511
			min r32, r24, r31
			muli r33, r26, -1
			add r34, r28, r33
			muli r35, r5, -1
			add r36, r26, r35
			muli r37, r36, 256
			add r38, r8, r37
			muli r39, r30, -1
			add r40, r32, r39
			muli r41, r6, -1
			add r42, r30, r41
			add r43, r38, r42
			addi r44, r34, 1
			addi r45, r40, 1
			addi r46, r43, 0
			addi r47, r26, 0
			addi r48, r30, 0
			store d4, r44, r46	; C
		endloop
	endloop
	sync
	group 1, 262144	; R
	li r2, 1
	li r7, 1
	li r9, 0
	li r10, 3
	loop r9, r10, 1
		tile
		muli r11, r9, 128
		addi r13, r11, 127
		li r14, 511
		min r15, r13, r14
		addi r12, r15, 0
		li r13, 0
		max r14, r11, r13
		li r15, 511
		min r16, r12, r15
		addi r1, r14, 0
		li r17, 1
		sub r2, r17, r2
		muli r3, r2, 65536
		li r4, 1
		li r13, 0
		max r14, r11, r13
		li r15, 511
		min r16, r12, r15
		addi r6, r14, 0
		li r17, 1
		sub r7, r17, r7
		muli r8, r7, 65536
		addi r8, r8, 131072
		li r13, 0
		max r14, r11, r13
		li r15, 511
		min r16, r12, r15
		muli r17, r14, -1
		add r18, r16, r17
		muli r19, r1, -1
		add r20, r14, r19
		add r21, r3, r20
		li r22, 512
		addi r23, r18, 1
		addi r24, r21, 0
		li r25, 0
		addi r26, r14, 0
		load d5, r22, r24	; C
		li r4, 0
		muli r13, r9, 128
		muli r14, r6, -1
		add r15, r13, r14
		add r16, r8, r15
		muli r17, r9, 128
		muli r18, r1, -1
		add r19, r17, r18
		add r20, r3, r19
		mode 1d
		li r21, 512
		li r22, 128
		addi r23, r16, 0
		addi r24, r20, 0
		vexpr d6, r21, r23
		li r13, 0
		max r14, r11, r13
		li r15, 511
		min r16, r12, r15
		muli r17, r14, -1
		add r18, r16, r17
		muli r19, r6, -1
		add r20, r14, r19
		add r21, r8, r20
		li r22, 512
		addi r23, r18, 1
		addi r24, r21, 0
		li r25, 0
		addi r26, r14, 0
		store d7, r22, r24	; R
	endloop
	sync
	halt
