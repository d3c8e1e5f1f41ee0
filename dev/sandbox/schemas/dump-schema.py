#!/usr/bin/env python3
"""Dump the schema of Odoo models as the sandbox loads them (README.md in this folder, "Format").

What the sync user's `fields_get()` answers over XML-RPC (every attribute), its
`check_access_rights`, the fields an administrator sees that it does not, and what only the
registry knows (`_order`, `_log_access`, each field's column, compute, inverse...), read through
`odoo-bin shell` on the same database. Writes one `<model>.json` per model into --out.

    python3 dump-schema.py --url http://127.0.0.1:8069 --db odoo17 \
        --user sync@example.com --password ... --admin-password ... \
        --odoo-bin /path/to/odoo-bin --config /path/to/odoo.conf --out odoo-17.0 \
        project.task project.project
"""
import argparse
import json
import subprocess
import sys
import xmlrpc.client

# Run inside `odoo-bin shell` (`env` is given): the registry's facts of the models named in
# MODELS, printed as one JSON line after the marker.
REGISTRY_FACTS = r'''
import json
def facts(model):
    Model = env[model]
    fields = {}
    for name, field in Model._fields.items():
        orm = {'column': bool(field.store and field.column_type)}
        if field.compute and not field.related: orm['compute'] = True
        if field.index: orm['index'] = field.index if isinstance(field.index, str) else True
        if field._module and not field.inherited: orm['module'] = field._module
        if field.type == 'many2one' and field.ondelete: orm['ondelete'] = field.ondelete
        if field.type == 'one2many' and field.inverse_name: orm['inverse_name'] = field.inverse_name
        if field.type == 'many2one_reference': orm['model_field'] = field.model_field
        if field.type == 'many2many' and field.store: orm['relation_table'] = field.relation
        if field.related: orm['related'] = field.related
        if field.search and (field.related or not field.store): orm['search'] = True
        if getattr(field, 'company_dependent', False): orm['company_dependent'] = True
        if getattr(field, 'attachment', False) and field.type == 'binary': orm['attachment'] = True
        fields[name] = dict(sorted(orm.items()))
    mixins = {
        base._name for base in type(Model).mro()
        if getattr(base, '_abstract', False) and getattr(base, '_name', None) not in (None, 'base', model)
        and base._name in env.registry and env[base._name]._abstract}
    return {
        'description': Model._description,
        'log_access': Model._log_access,
        'order': Model._order,
        'rec_name': Model._rec_name,
        'active_field': Model._active_name,
        'parent_name': Model._parent_name if Model._parent_name in Model._fields else None,
        'inherits': dict(Model._inherits),
        'mixins': sorted(set(mixins)),
        'orm': fields,
    }
print('@@FACTS@@' + json.dumps({model: facts(model) for model in MODELS}))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option in ('url', 'db', 'user', 'password', 'admin-password', 'odoo-bin', 'config', 'out'):
        parser.add_argument(f'--{option}', required=True)
    parser.add_argument('--admin-user', default='admin')
    parser.add_argument('--odoo-python', default='/usr/bin/python3',
                        help="the interpreter odoo-bin runs on (Debian's, with Odoo's packages)")
    parser.add_argument('models', nargs='+')
    args = parser.parse_args()

    common = xmlrpc.client.ServerProxy(f'{args.url}/xmlrpc/2/common')
    objects = xmlrpc.client.ServerProxy(f'{args.url}/xmlrpc/2/object', allow_none=True)
    sync_uid = common.authenticate(args.db, args.user, args.password, {})
    admin_uid = common.authenticate(args.db, args.admin_user, args.admin_password, {})
    if not sync_uid or not admin_uid:
        sys.exit('login refused: check --user/--password and --admin-password')

    shell = subprocess.run(
        [args.odoo_python, args.odoo_bin, 'shell', '-c', args.config, '-d', args.db, '--no-http'],
        input=f'MODELS = {json.dumps(args.models)}\n{REGISTRY_FACTS}',
        capture_output=True, text=True, check=True)
    line = next(l for l in shell.stdout.splitlines() if l.startswith('@@FACTS@@'))
    registry = json.loads(line[len('@@FACTS@@'):])
    version = common.version()['server_version']

    for model in args.models:
        def call(uid, password, method, *call_args, **kwargs):
            return objects.execute_kw(args.db, uid, password, model, method, list(call_args), kwargs)
        fields = call(sync_uid, args.password, 'fields_get')
        admin_fields = call(admin_uid, args.admin_password, 'fields_get', attributes=['type'])
        access = {op: call(sync_uid, args.password, 'check_access_rights', op, raise_exception=False)
                  for op in ('read', 'write', 'create', 'unlink')}
        facts = registry[model]
        dump = {
            'model': model,
            'odoo_version': version,
            'source': f'dump-schema.py against a running Odoo {version} server: fields_get() with '
                      'no attributes argument over XML-RPC as the sync user; order, rec_name, '
                      'log_access, inherits, mixins and orm.* from the same registry (odoo-bin shell)',
            'description': facts['description'],
            'log_access': facts['log_access'],
            'order': facts['order'],
            'rec_name': facts['rec_name'],
            'active_field': facts['active_field'],
            'parent_name': facts['parent_name'],
            'inherits': facts['inherits'],
            'mixins': facts['mixins'],
            'access': access,
            'fields_hidden_by_groups': sorted(set(admin_fields) - set(fields)),
            'orm': {name: facts['orm'][name] for name in fields if name in facts['orm']},
            'fields': fields,
        }
        with open(f'{args.out}/{model}.json', 'w', encoding='utf-8') as out:
            json.dump(dump, out, ensure_ascii=False, indent=2)
            out.write('\n')
        print(f'{model}: {len(fields)} fields', file=sys.stderr)


if __name__ == '__main__':
    main()
