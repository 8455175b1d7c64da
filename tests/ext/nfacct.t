# -m nfacct: the accounting object must exist first, or the kernel refuses the rule (ENOENT;
# not a case here, as it depends on the kernel's state, not on the rule):
# needs: nfacct add fwb-acct
# The name is saved quoted as xtables_save_string does, after a doubled space.
:INPUT,FORWARD,OUTPUT
*filter
-m nfacct --nfacct-name fwb-acct;-m nfacct --nfacct-name  fwb-acct;OK
-m nfacct ! --nfacct-name fwb-acct;;FAIL
-m nfacct --nfacct-name fwb-acct --nfacct-name fwb-acct;;FAIL
-m nfacct --nfacct-name "";;FAIL
-m nfacct;;FAIL
