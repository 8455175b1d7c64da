# -m socket: a local socket exists for the packet (libxt_socket.c revision 3, xt_socket.c)
*mangle
:PREROUTING,INPUT
-m socket;=;OK
-m socket --transparent --nowildcard --restore-skmark;=;OK
-m socket --restore-skmark --transparent;-m socket --transparent --restore-skmark;OK
-m socket --nowildcard;=;OK
-m socket ! --nowildcard;;FAIL
-m socket --transparent --transparent;;FAIL
# xt_socket registers for PREROUTING and INPUT only
:FORWARD,OUTPUT,POSTROUTING
-m socket;;FAIL
*raw
:PREROUTING
-m socket --transparent;=;OK
:OUTPUT
-m socket;;FAIL
*filter
:INPUT
-m socket;=;OK
:FORWARD,OUTPUT
-m socket;;FAIL
*nat
:PREROUTING,INPUT
-m socket;=;OK
