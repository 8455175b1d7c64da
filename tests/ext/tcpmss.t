# -m tcpmss: --mss MIN[:MAX] (reversed range refused); the kernel wants -p tcp.
:INPUT,FORWARD,OUTPUT
-p tcp -m tcpmss --mss 1460;=;OK
-p tcp -m tcpmss ! --mss 1000:1500;=;OK
-p tcp -m tcpmss --mss :536;-p tcp -m tcpmss --mss 0:536;OK
-p tcp -m tcpmss --mss 1400:;-p tcp -m tcpmss --mss 1400:65535;OK
-p tcp -m tcpmss --mss :;-p tcp -m tcpmss --mss 0:65535;OK
-p tcp -m tcpmss --mss 0x10:0x20;-p tcp -m tcpmss --mss 16:32;OK
-p tcp -m tcpmss --mss 5:5;-p tcp -m tcpmss --mss 5;OK
-p tcp -m tcpmss --mss 1500:1000;;FAIL
-p tcp -m tcpmss --mss 65536;;FAIL
-p tcp -m tcpmss --mss 1:2:3;;FAIL
-p tcp -m tcpmss --mss 1460 ! --mss 1;;FAIL
-p tcp -m tcpmss;;FAIL
-m tcpmss --mss 1460;;FAIL
-p udp -m tcpmss --mss 1460;;FAIL
! -p tcp -m tcpmss --mss 1;;FAIL
