# -j MASQUERADE: nat table, POSTROUTING only (xt_MASQUERADE.c).
:POSTROUTING
*nat
-j MASQUERADE;=;OK
-j MASQUERADE --random;=;OK
-j MASQUERADE --random-fully;=;OK
-p tcp -j MASQUERADE --to-ports 1024;=;OK
-p udp -j MASQUERADE --to-ports 1024-65535 --random --random-fully;=;OK
-p tcp -j MASQUERADE --to-ports http;-p tcp -j MASQUERADE --to-ports 80;OK
-p tcp -j MASQUERADE --to-ports 0;=;OK
# The base port of a shifted map is lost (the structure has none), the flag stays.
-p tcp -j MASQUERADE --to-ports 1024-65535/2000;-p tcp -j MASQUERADE --to-ports 1024-65535/0;OK
-j MASQUERADE --to-ports 1024;;FAIL
-p tcp -j MASQUERADE --to-ports 1024:65535;;FAIL
-p tcp -j MASQUERADE --to-ports 1024-http;;FAIL
-p tcp -j MASQUERADE --to-ports 1024 --to-ports 1025;;FAIL
-j MASQUERADE --persistent;;FAIL
:PREROUTING,INPUT,OUTPUT
*nat
-j MASQUERADE;;FAIL
