package policy

import (
	"reflect"
	"slices"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// This file makes reading a field of subject, role, via or an element of
// grants cheap. ext.NativeTypes reads a field of a Go struct through its
// offset and makes a CEL value of it (a string boxed anew) on every read;
// a Check reads the same fields of the same values millions of times. An
// object wraps one such Go value for one Check and keeps each field's CEL
// value once made, made by the same getter ext.NativeTypes gives, so a
// read gives what it gave before. The environments' provider hands CEL
// getters that read an object's kept field and anything else as before.

// object is a value of one of the variables' types whose fields are read
// once. It compares, converts and names its type as ext.NativeTypes' value
// of the same Go value does (nativeVal); Value is the object itself, so
// that the provider's getters know it.
type object struct {
	typ    *objType
	native any // *Subject, *Role, *Via or *Grant
	// fields are the values of the fields read so far, by number in typ,
	// as the getters give them; a grant's subject, role and via are set
	// when it is made, objects.
	fields []any
}

// objType is what objects of one type share: the getters and testers of
// its fields as ext.NativeTypes makes them.
type objType struct {
	name    string
	typ     ref.Type
	adapter types.Adapter
	index   map[string]int
	get     []func(any) (any, error)
	isSet   []func(any) bool
	// value is the Go value ext.NativeTypes was given for native (a
	// grant in grants is a Grant, not a pointer).
	value func(native any) any
}

// The objects' types, made once from an environment of the variables'
// types alone.
var objTypes = sync.OnceValue(func() map[string]*objType {
	env, err := cel.NewEnv(nativeTypes(), withAbsent)
	if err != nil {
		panic("policy: " + err.Error())
	}
	p, a := env.CELTypeProvider(), env.CELTypeAdapter()
	deref := func(native any) any { return reflect.ValueOf(native).Elem().Interface() }
	same := func(native any) any { return native }
	out := map[string]*objType{}
	for name, zero := range map[string]any{typeSubject: &Subject{}, typeRole: &Role{}, typeVia: &Via{}, typeGrant: &Grant{}} {
		t := &objType{name: name, typ: a.NativeToValue(zero).Type(), adapter: a, index: map[string]int{}, value: same}
		if name == typeGrant {
			t.value = deref
		}
		names, _ := p.FindStructFieldNames(name)
		slices.Sort(names)
		for i, f := range names {
			ft, _ := p.FindStructFieldType(name, f)
			t.index[f] = i
			t.get = append(t.get, ft.GetFrom)
			t.isSet = append(t.isSet, ft.IsSet)
		}
		out[name] = t
	}
	return out
})

// nativeTypes declares the variables' Go types to CEL.
func nativeTypes() cel.EnvOption {
	return ext.NativeTypes(reflect.TypeFor[Subject](), reflect.TypeFor[Scope](), reflect.TypeFor[Role](),
		reflect.TypeFor[Via](), reflect.TypeFor[Grant](), ext.ParseStructTags(true))
}

func newObject(t *objType, native any) *object {
	return &object{typ: t, native: native, fields: make([]any, len(t.get))}
}

// field is the value of field i as its getter gives it, got when first
// read.
func (o *object) field(i int) (any, error) {
	if v := o.fields[i]; v != nil {
		return v, nil
	}
	v, err := o.typ.get[i](o.native)
	if err != nil {
		return nil, err
	}
	o.fields[i] = v
	return v, nil
}

// nativeVal is the value ext.NativeTypes makes of the object's Go value.
func (o *object) nativeVal() ref.Val { return o.typ.adapter.NativeToValue(o.typ.value(o.native)) }

// asNative is v, or the value ext.NativeTypes makes of it when v is an
// object.
func asNative(v ref.Val) ref.Val {
	if o, ok := v.(*object); ok {
		return o.nativeVal()
	}
	return v
}

func (o *object) ConvertToNative(t reflect.Type) (any, error) {
	return o.nativeVal().ConvertToNative(t)
}

func (o *object) ConvertToType(t ref.Type) ref.Val {
	if t != types.TypeType && t.TypeName() == o.typ.name {
		return o
	}
	return o.nativeVal().ConvertToType(t)
}

func (o *object) Equal(other ref.Val) ref.Val { return o.nativeVal().Equal(asNative(other)) }
func (o *object) Type() ref.Type              { return o.typ.typ }
func (o *object) Value() any                  { return o }

// Get, IsSet and IsZeroValue, used when the type of the object is not
// known where it is read (dyn), are ext.NativeTypes', but for a field
// absent when zero, which Get reads as the getters do (errAbsent when
// not set), and a field kept as an object, which Get gives as it is.
func (o *object) Get(field ref.Val) ref.Val {
	if f, ok := field.(types.String); ok {
		if i, known := o.typ.index[string(f)]; known {
			if absentField(o.typ.name, string(f)) && !o.typ.isSet[i](o.native) {
				return types.WrapErr(errAbsent(string(f)))
			}
			if k, ok := o.fields[i].(*object); ok {
				return k
			}
		}
	}
	return o.nativeVal().(traits.Indexer).Get(field)
}

func (o *object) IsSet(field ref.Val) ref.Val { return o.nativeVal().(traits.FieldTester).IsSet(field) }
func (o *object) IsZeroValue() bool           { return o.nativeVal().(traits.Zeroer).IsZeroValue() }

// provider is the environments' type provider: ext.NativeTypes' with
// getters and testers that read objects, and structs that CEL makes
// (policy.Via{kind: 'team'}) made objects, so that they compare with
// objects.
type provider struct {
	types.Provider
}

func (p provider) FindStructFieldType(structType, fieldName string) (*types.FieldType, bool) {
	ft, ok := p.Provider.FindStructFieldType(structType, fieldName)
	t := objTypes()[structType]
	if !ok || t == nil {
		return ft, ok
	}
	i, known := t.index[fieldName]
	if !known {
		return ft, ok
	}
	get, isSet := ft.GetFrom, ft.IsSet
	return &types.FieldType{
		Type: ft.Type,
		IsSet: func(obj any) bool {
			if o, ok := obj.(*object); ok && o.typ == t {
				return t.isSet[i](o.native)
			}
			return isSet(obj)
		},
		GetFrom: func(obj any) (any, error) {
			if o, ok := obj.(*object); ok && o.typ == t {
				return o.field(i)
			}
			return get(obj)
		},
	}, true
}

func (p provider) NewValue(structType string, fields map[string]ref.Val) ref.Val {
	v := p.Provider.NewValue(structType, fields)
	t := objTypes()[structType]
	if t == nil || types.IsError(v) || v.Type().TypeName() != structType {
		return v
	}
	native := v.Value()
	if t.name == typeGrant {
		if g, ok := native.(Grant); ok {
			native = &g
		}
	}
	return newObject(t, native)
}

// absentProvider is ext.NativeTypes' provider with the getter of a field
// that is absent when zero (absentField) giving errAbsent when the field
// is not set; has() is as before. Both environments and the objects'
// getters read fields through it.
type absentProvider struct {
	types.Provider
}

func (p absentProvider) FindStructFieldType(structType, fieldName string) (*types.FieldType, bool) {
	ft, ok := p.Provider.FindStructFieldType(structType, fieldName)
	if !ok || !absentField(structType, fieldName) {
		return ft, ok
	}
	guarded := *ft
	get, isSet := ft.GetFrom, ft.IsSet
	guarded.GetFrom = func(obj any) (any, error) {
		if !isSet(obj) {
			return nil, errAbsent(fieldName)
		}
		return get(obj)
	}
	return &guarded, true
}

// withAbsent makes the environment's provider an absentProvider.
func withAbsent(e *cel.Env) (*cel.Env, error) {
	return cel.CustomTypeProvider(absentProvider{e.CELTypeProvider()})(e)
}

// objects are the objects of one Check: each subject, role and via of
// the index made an object when first read, shared by every rule.
type objects struct {
	ix                    *index
	subject, role, via    *objType
	grant                 *objType
	subjects, roles, vias []*object
	// grantFields are the numbers of a grant's fields subject, role and
	// via.
	grantFields [3]int
}

func newObjects(ix *index) *objects {
	t := objTypes()
	g := t[typeGrant]
	return &objects{ix: ix, subject: t[typeSubject], role: t[typeRole], via: t[typeVia], grant: g,
		subjects: make([]*object, len(ix.subjects)), roles: make([]*object, len(ix.roles)), vias: make([]*object, len(ix.vias)),
		grantFields: [3]int{g.index["subject"], g.index["role"], g.index["via"]}}
}

// subjectAt is the variable subject of the grant at k: an object, or the
// Go value when it is nil.
func (os *objects) subjectAt(k int32) any {
	n := os.ix.at[classSubject][k]
	if o := os.subjects[n]; o != nil {
		return o
	}
	s := os.ix.subjects[n]
	if s == nil {
		return s
	}
	o := newObject(os.subject, s)
	os.subjects[n] = o
	return o
}

// roleAt and viaAt are the variables role and via of the grant at k.
func (os *objects) roleAt(k int32) *object {
	n := os.ix.at[classRole][k]
	if os.roles[n] == nil {
		os.roles[n] = newObject(os.role, &os.ix.roles[n])
	}
	return os.roles[n]
}

func (os *objects) viaAt(k int32) *object {
	n := os.ix.at[classVia][k]
	if os.vias[n] == nil {
		os.vias[n] = newObject(os.via, &os.ix.vias[n])
	}
	return os.vias[n]
}

// grants are the grants at ks as elements of grants, their subject, role
// and via the shared objects.
func (os *objects) grants(a Access, ks []int32) []ref.Val {
	nf := len(os.grant.get)
	objs := make([]object, len(ks))
	fields := make([]any, nf*len(ks))
	out := make([]ref.Val, len(ks))
	for i, k := range ks {
		o := &objs[i]
		*o = object{typ: os.grant, native: &a.Grants[os.ix.order[k]], fields: fields[i*nf : (i+1)*nf : (i+1)*nf]}
		if s, ok := os.subjectAt(k).(*object); ok {
			o.fields[os.grantFields[0]] = s
		}
		o.fields[os.grantFields[1]] = os.roleAt(k)
		o.fields[os.grantFields[2]] = os.viaAt(k)
		out[i] = o
	}
	return out
}
