; Definitions: types, functions, trait method signatures, traits, modules, macros, constants and statics.
(struct_item name: (type_identifier) @definition.class)
(enum_item name: (type_identifier) @definition.class)
(union_item name: (type_identifier) @definition.class)
(type_item name: (type_identifier) @definition.type)
(function_item name: (identifier) @definition.function)
(function_signature_item name: (identifier) @definition.method)
(trait_item name: (type_identifier) @definition.interface)
(mod_item name: (identifier) @definition.module)
(macro_definition name: (identifier) @definition.macro)
(const_item name: (identifier) @definition.constant)
(static_item name: (identifier) @definition.constant)

; Scopes: shown above the methods they hold, never ranked themselves.
(impl_item) @scope

; References: calls (plain, method and path), macro invocations and every use of a type name.
(call_expression function: [
  (identifier) @reference.call
  (field_expression field: (field_identifier) @reference.call)
  (scoped_identifier name: (identifier) @reference.call)])
(macro_invocation macro: (identifier) @reference.call)
(type_identifier) @reference.type
