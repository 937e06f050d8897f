# The bash completion of tocsinctl: it registers itself, completes the
# commands of the table (every one `tocsinctl --help` lists, nothing more),
# their verbs, options and file arguments.
C=$SRC/contrib/bash-completion/tocsinctl
# complete WORDS...: the completions for the command line WORDS (the last
# one being completed), one per line, sorted.
complete_words() {
	bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_tocsinctl tocsinctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

echo "== registered"
expect_eq "complete -p" "$(bash -c '. "$1"; complete -p tocsinctl' _ "$C")" "complete -F _tocsinctl tocsinctl"

echo "== the command table"
# Names are the first 36 columns of the "commands:" lines of --help.
"$TOCSINCTL" --help | sed -n '/^commands:/,/^$/p' | sed '1d;/^$/d' |
    cut -c3-36 | awk '{ v = ($2 ~ /^[a-z][a-z0-9_.-]*$/) ? $2 : ""; print $1, v }' >"$T/table"
[ -s "$T/table" ] || fail "no commands in tocsinctl --help"
groups=$(awk '{ print $1 }' "$T/table" | sort -u | tr '\n' ' ' | sed 's/ $//')
expect_eq "groups" "$(complete_words tocsinctl '')" "$groups"
for g in $(awk '$2 != "" { print $1 }' "$T/table" | sort -u); do
	want=$(awk -v g="$g" '$1 == g { print $2 }' "$T/table" | sort | tr '\n' ' ' | sed 's/ $//')
	expect_eq "verbs of $g" "$(complete_words tocsinctl "$g" '')" "$want"
done
expect_eq "no verbs after status" "$(complete_words tocsinctl status '')" ""

echo "== prefixes, options, arguments"
expect_eq "e" "$(complete_words tocsinctl e)" "entity"
expect_eq "st" "$(complete_words tocsinctl st)" "status"
expect_eq "entity i" "$(complete_words tocsinctl entity i)" "import"
expect_eq "after -c FILE" "$(complete_words tocsinctl -c /etc/tocsin.yaml d)" "db"
expect_eq "after --json" "$(complete_words tocsinctl --json db m)" "migrate"
expect_eq "global options" "$(complete_words tocsinctl --j)" "--json"
expect_eq "status options" "$(complete_words tocsinctl status --)" "--help --json"
expect_eq "match formats" "$(complete_words tocsinctl match --format s)" "shadowserver stix"
mkdir -p "$T/files/sub"
touch "$T/files/reg.yaml" "$T/files/keys.asc" "$T/files/notes.txt"
expect_eq "entity import: yaml files and directories" \
    "$(complete_words tocsinctl entity import "$T/files/")" "$T/files/reg.yaml $T/files/sub"
expect_eq "key import: any file" \
    "$(complete_words tocsinctl key import "$T/files/k")" "$T/files/keys.asc"
expect_eq "-c: files" "$(complete_words tocsinctl -c "$T/files/n")" "$T/files/notes.txt"
