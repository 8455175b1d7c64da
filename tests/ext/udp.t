:INPUT,FORWARD,OUTPUT
-p udp -m udp --sport 53;=;OK
-p udp -m udp --dport 1024:65535;=;OK
-p udp -m udp ! --dport 53;=;OK
-p udp --dport domain;-p udp -m udp --dport 53;OK
-p udp -m udp --sport 67 --dport 68;=;OK
-p udp -m udp --dport 0:65535;-p udp -m udp;OK
# iptables 1.8.9's udp match takes ports modulo 65536 (tcp refuses them).
-p udp -m udp --dport 70000;-p udp -m udp --dport 4464;OK
-p udp -m udp --sport 65536:65537;-p udp -m udp --sport 0:1;OK
-m udp --dport 53;;FAIL
-p tcp -m udp --dport 53;;FAIL
-p udp --syn;;FAIL
-p udp -m udp;=;OK
