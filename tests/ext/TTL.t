# TTL: IPv4 only, mangle table only (xt_HL registers it with .table = "mangle"), any hook.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j TTL --ttl-set 0;=;OK
-j TTL --ttl-set 64;=;OK
# Numbers as xtables_strtoui reads them: a leading + is fine, a + after 0 or 0x is not.
-j TTL --ttl-set +3;-j TTL --ttl-set 3;OK
-j TTL --ttl-set 0+3;;FAIL
-j TTL --ttl-set 255;=;OK
-j TTL --ttl-set 0x40;-j TTL --ttl-set 64;OK
-j TTL --ttl-set 256;;FAIL
-j TTL --ttl-dec 1;=;OK
-j TTL --ttl-dec 255;=;OK
-j TTL --ttl-dec 0;;FAIL
-j TTL --ttl-inc 1;=;OK
-j TTL --ttl-inc 0;;FAIL
-j TTL --ttl-inc 256;;FAIL
-j TTL;;FAIL
-j TTL --ttl-set 1 --ttl-dec 1;;FAIL
-j TTL --ttl-inc 1 --ttl-inc 2;;FAIL
-j TTL ! --ttl-set 1;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j TTL --ttl-set 64;;FAIL
:PREROUTING,OUTPUT
*raw
-j TTL --ttl-set 64;;FAIL
