# -m connlimit: saved with all its defaults (mask 32, saddr). `!` turns upto into above and
# back. A length above 32 is read as a mask (33 is 0.0.0.33, no prefix) and becomes 32.
:INPUT,FORWARD,OUTPUT
*filter
-m connlimit --connlimit-above 2;-m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit --connlimit-upto 2;-m connlimit --connlimit-upto 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit ! --connlimit-above 2;-m connlimit --connlimit-upto 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit ! --connlimit-upto 2;-m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit --connlimit-above 2 --connlimit-mask 24;-m connlimit --connlimit-above 2 --connlimit-mask 24 --connlimit-saddr;OK
-m connlimit --connlimit-above 0x10 --connlimit-daddr;-m connlimit --connlimit-above 16 --connlimit-mask 32 --connlimit-daddr;OK
-m connlimit --connlimit-upto 0 --connlimit-saddr --connlimit-mask 0;-m connlimit --connlimit-upto 0 --connlimit-mask 0 --connlimit-saddr;OK
-m connlimit --connlimit-above 4294967295 --connlimit-mask 255.255.0.0;-m connlimit --connlimit-above 4294967295 --connlimit-mask 16 --connlimit-saddr;OK
-m connlimit --connlimit-above 2 --connlimit-mask 33;-m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit --connlimit-above 2 --connlimit-mask 255.0.255.0;-m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr;OK
-m connlimit --connlimit-above 4294967296;;FAIL
-m connlimit --connlimit-above -1;;FAIL
-m connlimit --connlimit-mask 8;;FAIL
-m connlimit --connlimit-above 2 --connlimit-upto 3;;FAIL
-m connlimit --connlimit-above 2 --connlimit-saddr --connlimit-daddr;;FAIL
-m connlimit --connlimit-above 2 ! --connlimit-mask 3;;FAIL
-m connlimit --connlimit-above 2 --connlimit-mask abc;;FAIL
-m connlimit --connlimit-above 2 --connlimit-mask 24 --connlimit-mask 16;;FAIL
-m connlimit;;FAIL
