# -m quota: bytes, 64-bit. (`-L` shows no `!` for a negated quota.)
:INPUT,FORWARD,OUTPUT
*filter
-m quota --quota 1000;=;OK
-m quota ! --quota 0;=;OK
-m quota --quota 0x10;-m quota --quota 16;OK
-m quota --quota 18446744073709551615;=;OK
-m quota --quota 18446744073709551616;;FAIL
-m quota --quota -1;;FAIL
-m quota --quota 100 --remain 50;;FAIL
-m quota --quota 1 --quota 2;;FAIL
-m quota;;FAIL
