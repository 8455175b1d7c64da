# -j AUDIT: any table and hook (xt_AUDIT.c); the type is read case-insensitively.
:INPUT,FORWARD,OUTPUT
*filter
-j AUDIT --type accept;=;OK
-j AUDIT --type drop;=;OK
-j AUDIT --type reject;=;OK
-j AUDIT --type ACCEPT;-j AUDIT --type accept;OK
-j AUDIT --type Drop;-j AUDIT --type drop;OK
-j AUDIT;;FAIL
-j AUDIT --type foo;;FAIL
-j AUDIT --type accept --type drop;;FAIL
:PREROUTING,OUTPUT
*raw
-j AUDIT --type accept;=;OK
