complete -W world profiles-hello
