// virt-inspector's XML (guestfs-tools inspector/inspector.c output_root...): the same element
// names, order and nesting, written as libxml2's xmlTextWriter writes them with indent "  "
// (empty elements as <x/>, text escaped as xmlTextWriterWriteString does). A dedicated writer
// rather than an XML library: the output must match libxml2's bytes, and it is ~40 lines.

import type { OperatingSystem } from './types.js';

/** xmlEncodeSpecialChars (what xmlTextWriterWriteString uses): & < > " and CR. */
function escText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;');
}

function escAttr(s: string): string {
  return escText(s).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

type Node = { name: string; attrs?: [string, string][]; text?: string; raw?: boolean; children?: Node[] };

function el(name: string, text?: string, attrs?: [string, string][]): Node {
  return { name, text, attrs };
}

function write(n: Node, depth: number, out: string[]): void {
  const ind = '  '.repeat(depth);
  const attrs = (n.attrs ?? []).map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('');
  if (n.children && n.children.length > 0) {
    out.push(`${ind}<${n.name}${attrs}>\n`);
    for (const c of n.children) write(c, depth + 1, out);
    out.push(`${ind}</${n.name}>\n`);
  } else if (n.text !== undefined && n.text !== '') {
    out.push(`${ind}<${n.name}${attrs}>${n.raw ? n.text : escText(n.text)}</${n.name}>\n`);
  } else {
    out.push(`${ind}<${n.name}${attrs}/>\n`);
  }
}

/**
 * xmlTextWriterWriteBase64's layout (libxml2 xmlwriter.c xmlOutputBufferWriteBase64): lines of
 * 72 characters separated by a raw CR LF, none after the last.
 */
export function base64Lines(b64: string): string {
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 72) lines.push(b64.slice(i, i + 72));
  return lines.join('\r\n');
}

function osNode(os: OperatingSystem): Node {
  const c: Node[] = [];
  const opt = (name: string, v: string | undefined) => {
    if (v !== undefined && v !== 'unknown') c.push(el(name, v));
  };
  c.push(el('root', os.root));
  opt('name', os.type);
  opt('arch', os.arch);
  opt('distro', os.distro);
  opt('product_name', os.productName);
  opt('product_variant', os.productVariant);
  c.push(el('major_version', String(os.majorVersion)));
  c.push(el('minor_version', String(os.minorVersion)));
  opt('package_format', os.packageFormat);
  opt('package_management', os.packageManagement);
  opt('windows_systemroot', os.windowsSystemroot);
  opt('windows_current_control_set', os.windowsCurrentControlSet);
  opt('hostname', os.hostname);
  opt('build_id', os.buildId);
  opt('osinfo', os.osinfo);
  c.push({ name: 'mountpoints', children: os.mountpoints.map((m) => el('mountpoint', m.mountpoint, [['dev', m.device]])) });
  c.push({
    name: 'filesystems',
    children: os.filesystems.map((f) => {
      const fc: Node[] = [];
      if (f.type) fc.push(el('type', f.type));
      if (f.label) fc.push(el('label', f.label));
      if (f.uuid) fc.push(el('uuid', f.uuid));
      return { name: 'filesystem', attrs: [['dev', f.device]], children: fc };
    }),
  });
  if (os.driveMappings.length > 0) {
    const dm = [...os.driveMappings].sort((a, b) => {
      const x = a.name.toLowerCase(), y = b.name.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
    c.push({ name: 'drive_mappings', children: dm.map((m) => el('drive_mapping', m.device, [['name', m.name]])) });
  }
  if (os.applications) {
    c.push({
      name: 'applications',
      children: os.applications.map((a) => {
        const ac: Node[] = [el('name', a.name)];
        const o = (n: string, v: string | undefined) => {
          if (v) ac.push(el(n, v));
        };
        o('display_name', a.displayName);
        if (a.epoch !== 0) ac.push(el('epoch', String(a.epoch)));
        o('version', a.version);
        o('release', a.release);
        o('arch', a.arch);
        o('install_path', a.installPath);
        o('publisher', a.publisher);
        o('url', a.url);
        o('source_package', a.sourcePackage);
        o('summary', a.summary);
        o('description', a.description);
        o('class', a.class);
        return { name: 'application', children: ac };
      }),
    });
  }
  if (os.icon) c.push({ name: 'icon', text: base64Lines(os.icon), raw: true });
  return { name: 'operatingsystem', children: c };
}

/** The whole document, as virt-inspector prints it. */
export function inspectorXml(oses: readonly OperatingSystem[]): string {
  const out = ['<?xml version="1.0"?>\n'];
  write({ name: 'operatingsystems', children: oses.map(osNode) }, 0, out);
  return out.join('');
}
