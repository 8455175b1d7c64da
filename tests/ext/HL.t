# iptables has no HL target (it has TTL): `-j HL` is a jump to a chain named HL.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j HL --hl-set 64;;FAIL
