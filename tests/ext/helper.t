# -m helper: a name of at most 29 bytes (longer ones are cut silently), quoted by save when needed.
:INPUT,FORWARD,OUTPUT
-m helper --helper ftp;=;OK
-m helper ! --helper sip;=;OK
-m helper --helper "sip x";=;OK
-m helper --helper "";=;OK
-m helper --helper 12345678901234567890123456789;=;OK
-m helper --helper 123456789012345678901234567890;-m helper --helper 12345678901234567890123456789;OK
-m helper --helper irc-6667;=;OK
-m helper --helper a --helper b;;FAIL
-m helper;;FAIL
