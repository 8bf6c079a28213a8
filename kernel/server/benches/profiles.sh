# Sourced by scale.sh and backends_scale.sh: `clinic_profiles N DIR` writes N
# profiles of the demo clinic into DIR, each with its own enterprise name
# ("Clinica 00001"...). Needs ROOT, the repository's folder.
clinic_profiles() {
  mkdir -p "$2"
  awk -v n="$1" -v dir="$2" '
    { lines[NR] = $0 }
    END {
      for (i = 1; i <= n; i++) {
        file = sprintf("%s/clinic-%05d.yaml", dir, i)
        for (l = 1; l <= NR; l++) {
          line = lines[l]
          sub(/name: "Clinica Dental Sonrisa"/, sprintf("name: \"Clinica %05d\"", i), line)
          print line > file
        }
        close(file)
      }
    }' "$ROOT/schemas/examples/dental-clinic.yaml"
}
