; Definitions: classes, functions (methods included) and module-level constants.
(class_definition name: (identifier) @definition.class)
(function_definition name: (identifier) @definition.function)
(module (expression_statement (assignment left: (identifier) @definition.constant)))

; References: calls, base classes, decorators, type hints and names imported from other modules.
(call function: [(identifier) @reference.call (attribute attribute: (identifier) @reference.call)])
(class_definition superclasses: (argument_list [(identifier) @reference.class (attribute attribute: (identifier) @reference.class)]))
(decorator [(identifier) @reference.call (attribute attribute: (identifier) @reference.call)])
(type (identifier) @reference.type)
(import_from_statement name: (dotted_name (identifier) @reference.import))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @reference.import)))
