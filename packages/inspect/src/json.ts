// `--json`: the same facts as the XML, as one document described by docs/inspector.schema.json.
import type { OperatingSystem } from './types.js';

export const INSPECTOR_JSON_VERSION = 1;

export function inspectorJson(oses: readonly OperatingSystem[]): object {
  return {
    version: INSPECTOR_JSON_VERSION,
    operatingsystems: oses.map((os) => {
      const o: Record<string, unknown> = { root: os.root };
      const put = (k: string, v: unknown) => {
        if (v !== undefined) o[k] = v;
      };
      put('name', os.type);
      put('arch', os.arch);
      put('distro', os.distro);
      put('product_name', os.productName);
      put('product_variant', os.productVariant);
      o.major_version = os.majorVersion;
      o.minor_version = os.minorVersion;
      put('package_format', os.packageFormat);
      put('package_management', os.packageManagement);
      put('windows_systemroot', os.windowsSystemroot);
      put('windows_current_control_set', os.windowsCurrentControlSet);
      put('hostname', os.hostname);
      put('build_id', os.buildId);
      put('osinfo', os.osinfo);
      put('firmware', os.firmware);
      o.mountpoints = os.mountpoints.map((m) => ({ dev: m.device, mountpoint: m.mountpoint }));
      o.filesystems = os.filesystems.map((f) => {
        const r: Record<string, string> = { dev: f.device };
        if (f.type) r.type = f.type;
        if (f.label) r.label = f.label;
        if (f.uuid) r.uuid = f.uuid;
        return r;
      });
      if (os.driveMappings.length) o.drive_mappings = os.driveMappings.map((d) => ({ name: d.name, dev: d.device }));
      if (os.applications) {
        o.applications = os.applications.map((a) => {
          const r: Record<string, unknown> = { name: a.name };
          const p = (k: string, v: string | undefined) => {
            if (v) r[k] = v;
          };
          p('display_name', a.displayName);
          if (a.epoch) r.epoch = a.epoch;
          p('version', a.version);
          p('release', a.release);
          p('arch', a.arch);
          p('install_path', a.installPath);
          p('publisher', a.publisher);
          p('url', a.url);
          p('source_package', a.sourcePackage);
          p('summary', a.summary);
          p('description', a.description);
          p('class', a.class);
          return r;
        });
      }
      if (os.icon) o.icon = os.icon;
      return o;
    }),
  };
}
