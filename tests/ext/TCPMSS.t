# TCPMSS: any table; needs -p tcp (the xt_target's .proto). --clamp-mss-to-pmtu only in
# FORWARD, OUTPUT and POSTROUTING. Under nft_compat the kernel does not ask for a SYN match.
# --set-mss and --clamp-mss-to-pmtu write the same field: the last one given wins.
:FORWARD,OUTPUT,POSTROUTING
*mangle
-p tcp -j TCPMSS --set-mss 1400;=;OK
-p tcp -j TCPMSS --set-mss 0;=;OK
-p tcp -j TCPMSS --set-mss 65515;=;OK
-p tcp -j TCPMSS --set-mss 65516;;FAIL
-p tcp -j TCPMSS --clamp-mss-to-pmtu;=;OK
-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu;=;OK
-p tcp -j TCPMSS --set-mss 1 --clamp-mss-to-pmtu;-p tcp -j TCPMSS --clamp-mss-to-pmtu;OK
-p tcp -j TCPMSS --clamp-mss-to-pmtu --set-mss 1;-p tcp -j TCPMSS --set-mss 1;OK
-p tcp -j TCPMSS;;FAIL
-p tcp -j TCPMSS --set-mss 1 --set-mss 2;;FAIL
-p tcp -j TCPMSS --clamp-mss-to-pmtu --clamp-mss-to-pmtu;;FAIL
-j TCPMSS --set-mss 1400;;FAIL
! -p tcp -j TCPMSS --set-mss 1400;;FAIL
-p udp -j TCPMSS --set-mss 1400;;FAIL
-p tcp -j TCPMSS ! --set-mss 1400;;FAIL
:PREROUTING,INPUT
-p tcp -j TCPMSS --set-mss 1400;=;OK
-p tcp -j TCPMSS --clamp-mss-to-pmtu;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-p tcp -j TCPMSS --set-mss 1400;=;OK
:FORWARD,OUTPUT
-p tcp -j TCPMSS --clamp-mss-to-pmtu;=;OK
:INPUT
-p tcp -j TCPMSS --clamp-mss-to-pmtu;;FAIL
:PREROUTING,OUTPUT
*raw
-p tcp -j TCPMSS --set-mss 536;=;OK
