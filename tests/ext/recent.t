# -m recent (revision 1): save adds the defaults --name DEFAULT, --mask 255.255.255.255 and
# --rsource; the later of --rsource/--rdest wins. --set and --remove take no --seconds,
# --hitcount, --reap or --rttl (the kernel refuses them), and list names must be file names.
:INPUT,FORWARD,OUTPUT
*filter
-m recent --set;-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource;OK
-m recent ! --set --name fwb;-m recent ! --set --name fwb --mask 255.255.255.255 --rsource;OK
-m recent --rcheck --name fwb --rdest;-m recent --rcheck --name fwb --mask 255.255.255.255 --rdest;OK
-m recent ! --rcheck --seconds 60 --reap --name fwb;-m recent ! --rcheck --seconds 60 --reap --name fwb --mask 255.255.255.255 --rsource;OK
-m recent --update --seconds 60 --hitcount 3 --rttl;-m recent --update --seconds 60 --hitcount 3 --rttl --name DEFAULT --mask 255.255.255.255 --rsource;OK
-m recent --update --hitcount 65535 --name fwb;-m recent --update --hitcount 65535 --name fwb --mask 255.255.255.255 --rsource;OK
-m recent --rcheck --hitcount 0 --name fwb;-m recent --rcheck --name fwb --mask 255.255.255.255 --rsource;OK
-m recent --remove --name fwb.2 --mask 255.255.255.0;-m recent --remove --name fwb.2 --mask 255.255.255.0 --rsource;OK
-m recent --set --mask 10 --rsource --rdest;-m recent --set --name DEFAULT --mask 0.0.0.10 --rdest;OK
-m recent --set --rdest --rsource;-m recent --set --name DEFAULT --mask 255.255.255.255 --rsource;OK
-m recent --set --seconds 5;;FAIL
-m recent --set --hitcount 2;;FAIL
-m recent --remove --reap --seconds 3;;FAIL
-m recent --set --rttl;;FAIL
-m recent --remove --rttl;;FAIL
-m recent --rcheck --reap;;FAIL
-m recent --rcheck --seconds 0;;FAIL
-m recent --rcheck --hitcount 65536;;FAIL
-m recent --set --rcheck;;FAIL
-m recent --update --update;;FAIL
-m recent --seconds 5;;FAIL
-m recent --set --name a/b;;FAIL
-m recent --set --name ..;;FAIL
-m recent --set --name "";;FAIL
-m recent --set --mask 1.2.3.4/8;;FAIL
-m recent --set --mask ::1;;FAIL
-m recent --set --rsource --rsource;;FAIL
-m recent;;FAIL
