# CHECKSUM: mangle table only, any hook; --checksum-fill is its only (and required) option.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j CHECKSUM --checksum-fill;=;OK
-p udp -j CHECKSUM --checksum-fill;=;OK
-j CHECKSUM;;FAIL
-j CHECKSUM --checksum-fill --checksum-fill;;FAIL
-j CHECKSUM ! --checksum-fill;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j CHECKSUM --checksum-fill;;FAIL
