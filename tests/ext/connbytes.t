# -m connbytes: all three options are mandatory; saved as range, mode, dir. A single value
# runs to the maximum (not printed). `!` is stored by reversing the range, so a negated
# one-value range loses it, and an upper end of 0 is not printed.
:INPUT,FORWARD,OUTPUT
*filter
-m connbytes --connbytes 10 --connbytes-dir original --connbytes-mode bytes;-m connbytes --connbytes 10 --connbytes-mode bytes --connbytes-dir original;OK
-m connbytes ! --connbytes 10:100 --connbytes-dir reply --connbytes-mode packets;-m connbytes ! --connbytes 10:100 --connbytes-mode packets --connbytes-dir reply;OK
-m connbytes --connbytes 10: --connbytes-dir both --connbytes-mode avgpkt;-m connbytes --connbytes 10 --connbytes-mode avgpkt --connbytes-dir both;OK
-m connbytes --connbytes :10 --connbytes-dir both --connbytes-mode avgpkt;-m connbytes --connbytes 0:10 --connbytes-mode avgpkt --connbytes-dir both;OK
-m connbytes ! --connbytes 0x10 --connbytes-mode bytes --connbytes-dir both;-m connbytes ! --connbytes 16 --connbytes-mode bytes --connbytes-dir both;OK
-m connbytes ! --connbytes 5:5 --connbytes-dir both --connbytes-mode bytes;-m connbytes --connbytes 5:5 --connbytes-mode bytes --connbytes-dir both;OK
-m connbytes --connbytes 0:0 --connbytes-dir both --connbytes-mode bytes;-m connbytes --connbytes 0 --connbytes-mode bytes --connbytes-dir both;OK
-m connbytes --connbytes 0:18446744073709551615 --connbytes-dir both --connbytes-mode bytes;-m connbytes --connbytes 0 --connbytes-mode bytes --connbytes-dir both;OK
-m connbytes --connbytes 18446744073709551615 --connbytes-dir reply --connbytes-mode packets;-m connbytes --connbytes 18446744073709551615 --connbytes-mode packets --connbytes-dir reply;OK
-m connbytes --connbytes 100:10 --connbytes-dir both --connbytes-mode bytes;;FAIL
-m connbytes --connbytes 18446744073709551616 --connbytes-dir both --connbytes-mode bytes;;FAIL
-m connbytes --connbytes 1:2:3 --connbytes-dir both --connbytes-mode bytes;;FAIL
-m connbytes --connbytes 5 --connbytes-dir BOTH --connbytes-mode bytes;;FAIL
-m connbytes --connbytes 5 --connbytes-dir both --connbytes-mode octets;;FAIL
-m connbytes --connbytes 10;;FAIL
-m connbytes --connbytes 10 --connbytes-dir both;;FAIL
-m connbytes --connbytes-dir both --connbytes-mode bytes;;FAIL
-m connbytes --connbytes 5 --connbytes-dir both --connbytes-mode bytes ! --connbytes-dir reply;;FAIL
