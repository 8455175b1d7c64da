# -m state: conntrack revision 3 under another name, with only the state mask.
# States print in the kernel's bit order (INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED) and may
# be abbreviated when written.
:INPUT,FORWARD,OUTPUT
*filter
-m state --state NEW;=;OK
-m state --state ESTABLISHED,RELATED;-m state --state RELATED,ESTABLISHED;OK
-m state ! --state INVALID;=;OK
-m state --state new,untracked;-m state --state NEW,UNTRACKED;OK
-m state --state est,r;-m state --state RELATED,ESTABLISHED;OK
-m state --state UNTRACKED,RELATED,INVALID,ESTABLISHED,NEW;-m state --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED;OK
-m state --state NEW,NEW;-m state --state NEW;OK
-m state --state SNAT;;FAIL
-m state --state DNAT;;FAIL
-m state --state NEWS;;FAIL
-m state --state NEW,;;FAIL
-m state --state ,NEW;;FAIL
-m state --state "";;FAIL
-m state;;FAIL
-m state --state NEW --state INVALID;;FAIL
:PREROUTING,OUTPUT
*raw
-m state --state UNTRACKED;=;OK
