# make install into a DESTDIR gives the expected tree; the systemd unit
# passes systemd-analyze verify; every man page renders without warnings;
# tocsind -n checks the configuration and tocsind refuses root.
D=$T/dest
make -C "$SRC" --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "make install"; }
for f in usr/sbin/tocsind usr/bin/tocsinctl usr/share/man/man8/tocsind.8 \
    usr/share/man/man1/tocsinctl.1 usr/share/man/man5/tocsin.yaml.5 \
    usr/share/tocsin/schema/0001_registry.sql etc/tocsin/tocsin.yaml.sample \
    lib/systemd/system/tocsind.service \
    usr/share/bash-completion/completions/tocsinctl \
    usr/share/tocsin/templates/en/spear-exposed_service.txt.mustache \
    usr/share/tocsin/templates/en/advisory.subject.mustache; do
	[ -e "$D/$f" ] || fail "$f not installed"
done
echo "  ok: installed tree complete"
echo "== every template and migration installed, the sample points at them"
(cd "$SRC/templates" && find . -type f | sort) >"$T/tpl.src"
(cd "$D/usr/share/tocsin/templates" && find . -type f | sort) >"$T/tpl.dst"
cmp -s "$T/tpl.src" "$T/tpl.dst" || { diff "$T/tpl.src" "$T/tpl.dst"; fail "templates differ"; }
expect_eq "template files" "$(wc -l <"$T/tpl.dst")" "$(wc -l <"$T/tpl.src")"
for f in "$SRC"/schema/*.sql; do
	cmp -s "$f" "$D/usr/share/tocsin/schema/$(basename "$f")" || fail "$(basename "$f") not installed"
done
expect_grep '^  templates_dir: /usr/share/tocsin/templates$' "$D/etc/tocsin/tocsin.yaml.sample"
expect_eq "completion" "$(bash -c '. "$1"; complete -p tocsinctl' _ "$D/usr/share/bash-completion/completions/tocsinctl")" \
    "complete -F _tocsinctl tocsinctl"

expect_grep '^ExecStart=/usr/sbin/tocsind -c /etc/tocsin/tocsin.yaml$' "$D/lib/systemd/system/tocsind.service"
expect_grep '^NoNewPrivileges=yes$' "$D/lib/systemd/system/tocsind.service"
expect_grep '^ProtectSystem=strict$' "$D/lib/systemd/system/tocsind.service"
expect_grep '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$' "$D/lib/systemd/system/tocsind.service"

echo "== systemd-analyze verify (the binary path pointed at the installed one)"
sed "s|/usr/sbin/tocsind|$D/usr/sbin/tocsind|g" "$D/lib/systemd/system/tocsind.service" >"$T/tocsind.service"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no "$T/tocsind.service" >"$T/verify.log" 2>&1 ||
	    { cat "$T/verify.log"; fail "systemd-analyze verify"; }
	expect_no_grep 'tocsind.service' "$T/verify.log"
else
	echo "  skipped: no systemd-analyze"
fi

echo "== man pages render without warnings"
for m in "$D"/usr/share/man/man*/*; do
	MANWIDTH=80 man --warnings -l "$m" >"$T/man.out" 2>"$T/man.err" || fail "man -l $m"
	[ ! -s "$T/man.err" ] || { cat "$T/man.err"; fail "warnings in $m"; }
	[ "$(wc -l <"$T/man.out")" -gt 20 ] || fail "$m renders almost nothing"
	echo "  ok: $(basename "$m")"
done

echo "== tocsind -n"
expect_rc 0 "$D/usr/sbin/tocsind" -n -c "$D/etc/tocsin/tocsin.yaml.sample"
expect_grep '^configuration OK$' "$T/last.out"
printf 'smtp: {from: nope, port: 99999}\nbogus: 1\n' >"$T/bad.yaml"
expect_rc 1 "$D/usr/sbin/tocsind" -n -c "$T/bad.yaml"
expect_grep 'bad.yaml:1:14: smtp.from: "nope" is not an email address' "$T/last.err"
expect_grep 'bad.yaml:1:26: smtp.port: 99999 is above 65535' "$T/last.err"
expect_grep 'bad.yaml:2:1: bogus: unknown key' "$T/last.err"
expect_grep 'bad.yaml: gpg.signing_key: is required' "$T/last.err"
if [ "$(id -u)" = 0 ]; then
	expect_rc 1 "$D/usr/sbin/tocsind" -c "$D/etc/tocsin/tocsin.yaml.sample"
	expect_grep 'refusing to run as root' "$T/last.err"
fi
