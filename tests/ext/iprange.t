# -m iprange: inclusive address ranges (libxt_iprange.c revision 1)
:INPUT,FORWARD,OUTPUT
-m iprange --src-range 1.1.1.1-1.1.1.10;=;OK
-m iprange ! --src-range 1.1.1.1-1.1.1.10;=;OK
# a single address is saved as a range of one
-m iprange --dst-range 2.2.2.2;-m iprange --dst-range 2.2.2.2-2.2.2.2;OK
-m iprange --dst-range 2.2.2.2 ! --src-range 10.0.0.0-10.255.255.255;-m iprange ! --src-range 10.0.0.0-10.255.255.255 --dst-range 2.2.2.2-2.2.2.2;OK
# reversed ranges are accepted (iptables warns that they never match)
-m iprange --src-range 1.1.1.10-1.1.1.1;=;OK
-m iprange --src-range 0.0.0.0-255.255.255.255;=;OK
# libxtables' dotted-quad reader: missing parts are zero, parts are C numbers
-m iprange --src-range 1.1.1-2;-m iprange --src-range 1.1.1.0-2.0.0.0;OK
-m iprange --src-range 010.0x10.1.1;-m iprange --src-range 8.16.1.1-8.16.1.1;OK
-m iprange --src-range 1.1.1.256;;FAIL
-m iprange --src-range 16843009;;FAIL
-m iprange --src-range 1.2.3.;;FAIL
-m iprange --src-range 1..2.3;;FAIL
-m iprange --src-range 1.2.3.4.5;;FAIL
-m iprange --src-range 1.1.1.1/24;;FAIL
-m iprange --src-range 1.1.1.1-;;FAIL
-m iprange --src-range 1.1.1.1-1.1.1.2-1.1.1.3;;FAIL
-m iprange --src-range localhost;;FAIL
-m iprange --src-range 1.1.1.1 --src-range 1.1.1.2;;FAIL
-m iprange;;FAIL
