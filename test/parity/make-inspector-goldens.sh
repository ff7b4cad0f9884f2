#!/usr/bin/env bash
# Regenerate test/goldens/inspector/* from real virt-inspector (libguestfs, TCG), ONE appliance
# launch per image (virt-inspector launches once). Run from the repository root after
# `node images/build.mjs phony-linux phony-windows guest-multiboot guest-fedora-rpm guest-alpine guest-debian inspect-ndb`; pass image
# paths to regenerate only those. What is committed per image:
#   phony-linux/NAME.img   NAME.xml.sha256: only the digest, as virt-inspector's XML for a phony
#                          guest is byte-identical to guestfs-tools' expected-*.img.xml in
#                          ../shared/samples, which must not be copied here;
#   guest-multiboot, guest-fedora-rpm, guest-alpine, phony-windows/windows-icon.img,
#   inspect-ndb/opensuse.img (deterministic images): NAME.xml, the whole XML (for opensuse.img
#                          with <applications/>: the appliance's librpm, Debian's, has no ndb
#                          backend; the test compares the rest and the applications with rpm -qa);
#   guest-debian (debootstrap from the mirror: package versions change): debian.facts.xml, the
#                          XML without <product_name>, <minor_version> (the point release) and
#                          <applications>; the script also compares guestkit's whole XML with
#                          virt-inspector's right now (applications as a sorted group) and fails
#                          when they differ. The test compares the applications with dpkg-query.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
out=test/goldens/inspector
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
defaults=(images/out/phony-linux/archlinux.img images/out/guest-multiboot/multiboot.img
          images/out/guest-fedora-rpm/fedora-rpm.img images/out/guest-alpine/alpine.img
          images/out/phony-windows/windows-icon.img images/out/guest-debian/debian.raw
          images/out/inspect-ndb/opensuse.img)
for img in "${@:-${defaults[@]}}"; do
  virt-inspector --format=raw -a "$img" > "$tmp/vi.xml"
  case "$img" in
    */phony-linux/*)
      name=$(basename "$img" .img)
      sha256sum < "$tmp/vi.xml" | cut -c1-64 > "$out/$name.xml.sha256"
      echo "wrote $out/$name.xml.sha256" ;;
    */guest-debian/*)
      perl -0pe 's#\n *<product_name>[^<]*</product_name>##; s#\n *<minor_version>[^<]*</minor_version>##; s#\n *<applications>.*</applications>##s' \
        "$tmp/vi.xml" > "$out/debian.facts.xml"
      echo "wrote $out/debian.facts.xml"
      bin/guestkit inspector --format=raw -a "$img" > "$tmp/gk.xml"
      canon() { perl -0pe 's#<application>(.*?)</application>#join("", "<application>", $1 =~ s/\n\s*//gr, "</application>")#gse' "$1" |
                perl -ne 'if (/<application>/) { push @a, $_ } else { print sort @a if @a; @a = (); print }'; }
      if diff <(canon "$tmp/vi.xml") <(canon "$tmp/gk.xml") > "$tmp/diff"; then
        echo "guest-debian: guestkit's XML equals virt-inspector's ($(grep -c '<application>' "$tmp/vi.xml") applications)"
      else
        echo "guest-debian: guestkit's XML differs from virt-inspector's:"; head -40 "$tmp/diff"; exit 1
      fi ;;
    *)
      name=$(basename "${img%.*}")
      cp "$tmp/vi.xml" "$out/$name.xml"
      echo "wrote $out/$name.xml" ;;
  esac
done
