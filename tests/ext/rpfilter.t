# -m rpfilter: reverse path filter (libxt_rpfilter.c, xt_rpfilter.c)
*raw
:PREROUTING
-m rpfilter;=;OK
-m rpfilter --loose --validmark --accept-local --invert;=;OK
-m rpfilter --invert --loose;-m rpfilter --loose --invert;OK
-m rpfilter --loose --loose;;FAIL
-m rpfilter ! --loose;;FAIL
# only in PREROUTING, and only in the raw and mangle tables
:OUTPUT
-m rpfilter;;FAIL
*mangle
:PREROUTING
-m rpfilter --validmark;=;OK
:INPUT,FORWARD,OUTPUT,POSTROUTING
-m rpfilter;;FAIL
*nat
:PREROUTING
-m rpfilter;;FAIL
*filter
:INPUT,FORWARD,OUTPUT
-m rpfilter;;FAIL
