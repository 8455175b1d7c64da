# -m mac: Ethernet source address (libxt_mac.c, xt_mac.c); printed in lower case
*mangle
:PREROUTING,INPUT,FORWARD
-m mac --mac-source aa:bb:cc:dd:ee:0f;=;OK
-m mac ! --mac-source aa:bb:cc:dd:ee:0f;=;OK
-m mac --mac-source AA:BB:CC:DD:EE:0F;-m mac --mac-source aa:bb:cc:dd:ee:0f;OK
# each field is strtoul(.., 16) of at most two characters; an empty field is 0
-m mac --mac-source a:b:c:d:e:f;-m mac --mac-source 0a:0b:0c:0d:0e:0f;OK
-m mac --mac-source :bb:cc:dd:ee:;-m mac --mac-source 00:bb:cc:dd:ee:00;OK
-m mac --mac-source aa-bb-cc-dd-ee-ff;;FAIL
-m mac --mac-source aa:bb:cc:dd:ee;;FAIL
-m mac --mac-source aa:bb:cc:dd:ee:ff:00;;FAIL
-m mac --mac-source aaa:bb:cc:dd:ee:0f;;FAIL
-m mac --mac-source 0xa:bb:cc:dd:ee:0f;;FAIL
-m mac --mac-source aa:bb:cc:dd:ee:0f --mac-source aa:bb:cc:dd:ee:0f;;FAIL
-m mac;;FAIL
# only received packets have a source MAC: xt_mac registers for PREROUTING, INPUT, FORWARD
:OUTPUT,POSTROUTING
-m mac --mac-source aa:bb:cc:dd:ee:0f;;FAIL
*filter
:OUTPUT
-m mac --mac-source aa:bb:cc:dd:ee:0f;;FAIL
