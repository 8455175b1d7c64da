# -m physdev: bridge ports of bridged packets (libxt_physdev.c, xt_physdev.c)
:INPUT,FORWARD,OUTPUT
-m physdev --physdev-in eth0;=;OK
-m physdev ! --physdev-in eth+;=;OK
-m physdev --physdev-in +;=;OK
-m physdev --physdev-in abcdefghijklmno;=;OK
-m physdev --physdev-is-in;=;OK
-m physdev ! --physdev-is-bridged;=;OK
-m physdev --physdev-out eth0 --physdev-is-bridged;=;OK
# saved in a fixed order: is-in, in, is-out, out, is-bridged
-m physdev --physdev-is-bridged ! --physdev-out br0 ! --physdev-is-out ! --physdev-in x --physdev-is-in;-m physdev --physdev-is-in ! --physdev-in x ! --physdev-is-out ! --physdev-out br0 --physdev-is-bridged;OK
-m physdev --physdev-in abcdefghijklmnop;;FAIL
-m physdev --physdev-in a --physdev-in b;;FAIL
-m physdev;;FAIL
# in OUTPUT the output port is known only for surely bridged packets
:FORWARD
-m physdev --physdev-out eth0;=;OK
-m physdev --physdev-is-out;=;OK
-m physdev --physdev-out eth0 ! --physdev-is-bridged;=;OK
:OUTPUT
-m physdev --physdev-out eth0;;FAIL
-m physdev --physdev-is-out;;FAIL
-m physdev --physdev-out eth0 ! --physdev-is-bridged;;FAIL
*mangle
:PREROUTING,INPUT,FORWARD,POSTROUTING
-m physdev --physdev-is-out --physdev-out eth0;-m physdev --physdev-is-out --physdev-out eth0;OK
:OUTPUT
-m physdev --physdev-is-out;;FAIL
-m physdev --physdev-is-out --physdev-is-bridged;=;OK
