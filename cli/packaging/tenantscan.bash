# bash completion for tenantscan: subcommands, options, and the values of options that list them.
# Read from the installed program's own --help at each completion, so it always matches the
# binary it completes (nothing to regenerate when an option is added).
_tenantscan_help() {
    # $1: the program; $2: the subcommand, or empty for the program's own help
    if [ -n "$2" ]; then "$1" "$2" --help 2>/dev/null; else "$1" --help 2>/dev/null; fi
}

_tenantscan() {
    local cur prev program sub i help line word values
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=""
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
    program=${COMP_WORDS[0]}
    COMPREPLY=()

    # The subcommand: the first word after the program that is not an option.
    sub=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) sub=${COMP_WORDS[i]}; break ;;
        esac
    done
    help=$(_tenantscan_help "$program" "$sub")
    [ -n "$help" ] || return 0

    # The value of an option: its listed choices ({a,b,c} in the help), else a file name.
    if [[ $prev == -* && $cur != -* ]]; then
        line=$(printf '%s\n' "$help" | grep -E -- "^  (-[A-Za-z],)?${prev}( |$)" | head -n 1)
        if [ -n "$line" ]; then
            word=$(printf '%s\n' "$line" | sed -E "s/^  (-[A-Za-z],)?${prev} ?//" | cut -d' ' -f1)
            case $word in
                "" | Excludes: | Needs:) ;;  # a flag: no value, complete as usual below
                *)
                    values=$(printf '%s\n' "$word" | sed -n -E 's/.*\{([^}]*)\}.*/\1/p' | tr ',' ' ')
                    if [ -n "$values" ]; then
                        mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
                    else
                        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                        compopt -o filenames 2>/dev/null
                    fi
                    return 0
                    ;;
            esac
        fi
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "$help" | grep -oE -- '^  (-[A-Za-z],)?--[A-Za-z0-9-]+' | sed -E 's/^  (-[A-Za-z],)?//')" -- "$cur")
    elif [ -z "$sub" ]; then
        mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "$help" | sed -n '/^Subcommands:/,/^$/p' | sed -n -E 's/^  ([a-z][a-z0-9-]*).*/\1/p')" -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    return 0
}
complete -F _tenantscan tenantscan
