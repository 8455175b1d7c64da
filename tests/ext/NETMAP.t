# -j NETMAP: nat table, every nat hook (xt_NETMAP.c). The address is read like getaddrinfo
# reads a numeric host (inet_aton: `10.1` is 10.0.0.1, `012` is octal); a mask with holes
# becomes /32.
:PREROUTING,INPUT,OUTPUT,POSTROUTING
*nat
-j NETMAP --to 1.2.3.0/24;=;OK
-j NETMAP --to 1.2.3.4/24;-j NETMAP --to 1.2.3.0/24;OK
-j NETMAP --to 1.2.3.4;-j NETMAP --to 1.2.3.4/32;OK
-j NETMAP --to 1.2.0.0/255.255.0.0;-j NETMAP --to 1.2.0.0/16;OK
-j NETMAP --to 1.2.0.0/255.255.0;-j NETMAP --to 1.2.0.0/16;OK
-j NETMAP --to 1.2.0.0/255.0.255.0;-j NETMAP --to 1.2.0.0/32;OK
-j NETMAP --to 1.2.0.0/33;-j NETMAP --to 1.2.0.0/32;OK
-j NETMAP --to 1.2.0.0/0;-j NETMAP --to 0.0.0.0/0;OK
-j NETMAP --to 1.2.0.0/0x10;-j NETMAP --to 1.2.0.0/16;OK
-j NETMAP --to 10.1;-j NETMAP --to 10.0.0.1/32;OK
-j NETMAP --to 012.0.0.1;-j NETMAP --to 10.0.0.1/32;OK
-j NETMAP;;FAIL
-j NETMAP --to 1.2.0.0/08;;FAIL
-j NETMAP --to 1.2.0.0/;;FAIL
-j NETMAP --to 1.2.0.0/8x;;FAIL
-j NETMAP --to 1.2.0.256;;FAIL
-j NETMAP --to 1.2.0.0/8 --to 1.2.0.0/8;;FAIL
-j NETMAP ! --to 1.2.0.0/8;;FAIL
:PREROUTING,OUTPUT
*mangle
-j NETMAP --to 1.2.3.0/24;;FAIL
