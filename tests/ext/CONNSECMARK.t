# CONNSECMARK: the mangle and security tables only (connsecmark_tg_check), any hook.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j CONNSECMARK --save;=;OK
-j CONNSECMARK --restore;=;OK
-j CONNSECMARK;;FAIL
-j CONNSECMARK --save --restore;;FAIL
-j CONNSECMARK --save --save;;FAIL
-j CONNSECMARK ! --save;;FAIL
:INPUT,FORWARD,OUTPUT
*security
-j CONNSECMARK --save;=;OK
-j CONNSECMARK --restore;=;OK
*filter
-j CONNSECMARK --save;;FAIL
:PREROUTING,OUTPUT
*raw
-j CONNSECMARK --restore;;FAIL
:PREROUTING,OUTPUT,POSTROUTING
*nat
-j CONNSECMARK --save;;FAIL
